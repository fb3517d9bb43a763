//! pprof's `Profile.String()` text dump, the format of `-raw` and the `.string` goldens.
