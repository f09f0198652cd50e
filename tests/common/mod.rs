pub mod cluster;
pub mod lsp_client;
