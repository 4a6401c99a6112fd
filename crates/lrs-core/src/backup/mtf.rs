//! MTF blocks and streams (in progress).
