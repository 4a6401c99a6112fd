//! Synthetic MTF backup writer (being written).
