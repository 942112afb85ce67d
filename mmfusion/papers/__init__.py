"""The papers: one package each, which exports its ``SPEC`` (name, datasets) from ``__init__.py``
and its ``EXPERIMENT`` from ``pipeline.py``; title, citation and tables come from papers/<name>.yaml.
A new paper is one package here and one YAML: the registry finds it."""
