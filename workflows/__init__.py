"""Workflow code only: deterministic, no I/O, no clock but `workflow.now()`. One sub-package per process family;
the client code that starts and talks to these workflows lives in `hub/temporal/`."""
