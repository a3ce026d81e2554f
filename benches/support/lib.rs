//! Shared setup for the criterion benches (filled in by the benches issue).
