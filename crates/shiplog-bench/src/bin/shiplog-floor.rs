//! `shiplog-floor`: the floor server the benchmark compares shiplog with.

use clap::Parser;

/// Answers shiplog's benchmarked calls with the same shapes, storing nothing.
#[derive(Parser)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8081")]
    listen: String,
    /// The one API token accepted.
    #[arg(long)]
    token: String,
    /// The secret its GitHub hook checks deliveries' signatures with
    /// (without it, deliveries are refused).
    #[arg(long)]
    hook_secret: Option<String>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let listener = tokio::net::TcpListener::bind(&args.listen).await?;
    axum::serve(
        listener,
        shiplog_bench::floor::router(args.token, args.hook_secret),
    )
    .await?;
    Ok(())
}
