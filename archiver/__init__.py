"""archiver: source archiving and link verification for evidence timelines."""

__version__ = "0.1.0"
