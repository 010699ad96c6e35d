"""One Screen per step of the journey, plus the dialogs and the help screen."""
