// Compiled into every layer library so that a layer whose directory is still empty links as a
// valid static library.
