"""Speech recognition: engines that turn an utterance into one of a question's answer values."""
