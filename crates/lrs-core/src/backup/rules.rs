//! LRS rule checks (in progress).
