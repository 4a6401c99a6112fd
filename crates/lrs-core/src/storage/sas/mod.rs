//! SAS tokens for LRS (being written).
