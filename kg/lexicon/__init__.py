"""The words and date forms releases are written in, shared by the readers and extraction."""
