"""One module per process: its activity names and the messages its workflows, activities and clients exchange."""
