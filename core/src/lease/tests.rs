//! Unit tests of the lease logic, on the memory store.
