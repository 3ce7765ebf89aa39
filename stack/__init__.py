"""The top layer: the `bianmin` CLI, Rasa model training and the stack supervisor. Imports every other package; none imports it."""
