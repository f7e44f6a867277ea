"""Audio as plain data: chunks of 16 kHz mono 16-bit PCM, from files or a microphone."""
