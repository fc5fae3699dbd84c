"""Mail in: fetch, parse, who sent it, what it is."""
