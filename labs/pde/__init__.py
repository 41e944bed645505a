"""The ``pde`` lab: TensorFlow as a numerical engine.

One module per equation (stepping in compiled TensorFlow beside a plain NumPy
reference), and :mod:`labs.pde.lab` for the parameters and the run.
"""
