"""The console's screens, one module each: the inbox, the supervisor view, help and dialogs."""
