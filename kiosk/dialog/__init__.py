"""The dialog: the self-check state machine, its actions, and answer understanding. Pure: no audio, no I/O."""
