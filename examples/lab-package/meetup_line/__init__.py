"""An example lab package for meetup-lab: fits a line by gradient descent."""
