"""Sessions: the voice and typed drivers of the dialog, the event stream, session records and the staff alert."""
