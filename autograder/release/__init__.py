"""Release: the instructor and student notebooks generated from one solution source."""
