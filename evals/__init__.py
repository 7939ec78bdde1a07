"""The eval suite (a package only so its test modules never clash by name with those in tests/)."""
