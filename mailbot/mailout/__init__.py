"""Mail out: compose, the 回执, queue and send."""
