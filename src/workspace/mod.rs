//! The workspace: the files of the workspace folders as kube-lsp knows them, open or not.

pub mod crd_files;
