"""Content: the YAML data (questions, rules, outcomes, advice, speech, answer phrases), its loaders and the
safety invariants checked whenever it loads. Imports nothing from the layers above and no device library."""
