//! Unit tests of the ssh step against the fake hosts.
