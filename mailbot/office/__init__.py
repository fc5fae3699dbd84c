"""The office's jobs: file mail, deadlines, reminders, digest, reviews, the workbook, the daemon."""
