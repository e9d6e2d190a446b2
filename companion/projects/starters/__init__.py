"""The starter files of the capstone projects: ``<name>.py``, with ``# %%`` cells.

They are copied out by ``python -m companion grade <project> --starter <out>``;
importing one runs nothing but definitions.
"""
