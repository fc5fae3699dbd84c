"""`mailbot demo` and the realistic department mail and documents it (and the tests) use."""
