"""Documents: read attachments safely, extract facts, check them against the campaign's rules."""
