// Text module.
