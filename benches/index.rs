//! A refresh of the Index panel's data plane for a domain with 2 000
//! indices: cluster health, `_cat/indices` and `_cat/aliases`, signed, over
//! loopback HTTP against the sandbox's OpenSearch stand-in, parsed into rows
//! with their aliases. (The control plane's DescribeDomain is one small call
//! to moto and is left out: no moto runs inside a bench.)
//!
//! The frame of that list at 200×50 is in `benches/ui.rs`.
#![allow(clippy::unwrap_used)]

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use criterion::{Criterion, criterion_group, criterion_main};
use opsdeck::aws::search::SearchClient;
use opsdeck::aws::session::{SANDBOX_ACCESS_KEY, SANDBOX_SECRET_KEY};
use opsdeck::aws::{CallContext, Clients};
use opsdeck::sandbox::search::{Cluster, Index, SearchServer};

pub const INDICES: usize = 2_000;

/// A cluster of `n` indices, every other one behind an alias.
pub fn big_cluster(n: usize) -> Cluster {
    let mut c = Cluster::new("dev-index", "us-east-1");
    for i in 0..n {
        let name = format!("dev-catalog-{i:04}-v1");
        c.indices
            .insert(name.clone(), Index::new(1_000 + i as u64 * 7, 3, 1));
        if i % 2 == 0 {
            c.aliases.insert(format!("dev-catalog-{i:04}"), name);
        }
    }
    c
}

fn clients() -> Clients {
    let config = SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
            SANDBOX_ACCESS_KEY,
            SANDBOX_SECRET_KEY,
            None,
            None,
            "bench",
        )))
        .build();
    Clients::new(
        &config,
        CallContext {
            deployment: "dev".into(),
            profile: None,
            endpoint: None,
            region: Some("us-east-1".into()),
        },
    )
}

fn refresh_2000_indices(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let server = runtime.block_on(async {
        SearchServer::start(([127, 0, 0, 1], 0).into(), vec![big_cluster(INDICES)])
            .await
            .unwrap()
    });
    let client =
        runtime.block_on(async { SearchClient::new(&clients(), &server.endpoint, false).unwrap() });
    c.bench_function("index_refresh_2000_indices", |b| {
        b.iter(|| {
            let (_, rows) = runtime.block_on(client.overview()).unwrap();
            assert_eq!(rows.len(), INDICES);
        })
    });
}

criterion_group!(benches, refresh_2000_indices);
criterion_main!(benches);
