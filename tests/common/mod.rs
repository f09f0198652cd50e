pub mod cli;
pub mod cluster;
pub mod corpus;
pub mod fixture;
pub mod helm;
pub mod lsp_client;
pub mod server;
