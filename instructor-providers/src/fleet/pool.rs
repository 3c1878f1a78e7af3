//! [`Pool`]: one provider that spreads calls over several, sets aside a member that keeps
//! failing and probes it back.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use instructor_core::provider::{
    async_trait, Capabilities, EventStream, Provider, Request, Response,
};
use instructor_core::{Error, Mode};
use tokio::time::Instant;

use super::member::{Counted, Member, MemberStatus, Policy, Ticket};

/// How a [`Pool`] chooses the member for a call.
///
/// ```
/// use instructor_core::testing::ScriptedProvider;
/// use instructor_providers::{Pool, Strategy};
/// let pool = Pool::new([ScriptedProvider::new(), ScriptedProvider::new()])
///     .strategy(Strategy::LeastInFlight);
/// # let _ = pool;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Strategy {
    /// Each call goes to the next member in turn.
    #[default]
    RoundRobin,
    /// Each call goes to the member with the fewest calls under way (ties in turn): a slow
    /// or busy server gets less.
    LeastInFlight,
}

/// A provider that spreads calls over several providers: a fleet of vLLM, llama.cpp or
/// Ollama servers, or several hosted accounts.
///
/// - Each call (or stream, counted until it ends or is dropped) goes to one member, chosen
///   by the [`Strategy`] among the members in service.
/// - A member whose calls fail transiently ([`Error::is_transient`]: connection errors,
///   timeouts, 429, 5xx) [`eject_after`](Pool::eject_after) times in a row (3 by default)
///   is set aside. After [`probe_after`](Pool::probe_after) (30 s by default) the next call
///   goes to it as a probe: an answer brings it back, a transient failure restarts its
///   wait. Any answer, even an error that is not transient (400, 401), shows it serves.
/// - The pool does not itself retry a failed call on another member: the error goes back
///   to the client, whose transport retry loop
///   ([`Client::transport_retries`](instructor_core::Client::transport_retries)) tries
///   again, and that try goes to the next member.
/// - When every member is ejected, the call still goes to the one whose probe is due
///   soonest, rather than failing without trying.
/// - It declares what every member can do: the modes all support (the first member's
///   default if it is one of them), streaming if all stream, images, documents and audio if all take them
///   (each member still holds a request to its own media rules before sending).
///
/// ```
/// use std::time::Duration;
/// use instructor_core::{testing::ScriptedProvider, Client};
/// use instructor_providers::{Pool, Strategy};
/// # async fn demo() -> Result<(), instructor_core::Error> {
/// let (a, b) = (ScriptedProvider::new().with_text("[1]"), ScriptedProvider::new().with_text("[2]"));
/// let pool = Pool::new([a.clone(), b.clone()])
///     .strategy(Strategy::RoundRobin)
///     .eject_after(3)
///     .probe_after(Duration::from_secs(30));
/// let client = Client::new(pool);
/// let first: Vec<u8> = client.create().user("One number").send().await?;
/// let second: Vec<u8> = client.create().user("One number").send().await?;
/// assert_eq!((first, second), (vec![1], vec![2]));
/// assert_eq!((a.requests().len(), b.requests().len()), (1, 1));
/// # Ok(()) }
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(demo()).unwrap();
/// ```
#[derive(Debug)]
pub struct Pool {
    members: Vec<Arc<Member>>,
    strategy: Strategy,
    policy: Policy,
    turn: AtomicUsize,
}

impl Default for Pool {
    fn default() -> Self {
        Self::empty()
    }
}

impl Pool {
    /// A pool of these providers, in this order (round robin, eject after 3 transient
    /// failures in a row, probe after 30 s). Add providers of other types with
    /// [`Pool::and`].
    ///
    /// ```
    /// use instructor_core::testing::ScriptedProvider;
    /// let pool = instructor_providers::Pool::new([ScriptedProvider::new(), ScriptedProvider::new()]);
    /// assert_eq!(pool.status().len(), 2);
    /// ```
    pub fn new<P: Provider + 'static>(providers: impl IntoIterator<Item = P>) -> Self {
        providers.into_iter().fold(Self::empty(), Self::and)
    }

    /// A pool of providers already shared.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use instructor_core::{testing::ScriptedProvider, Provider};
    /// let shared: Arc<dyn Provider> = Arc::new(ScriptedProvider::new());
    /// let pool = instructor_providers::Pool::from_shared([shared]);
    /// assert_eq!(pool.status().len(), 1);
    /// ```
    pub fn from_shared(providers: impl IntoIterator<Item = Arc<dyn Provider>>) -> Self {
        providers.into_iter().fold(Self::empty(), Self::and_shared)
    }

    /// A pool without members (every call fails with [`Error::Config`] until some are
    /// added).
    ///
    /// ```
    /// use instructor_core::testing::ScriptedProvider;
    /// let pool = instructor_providers::Pool::empty().and(ScriptedProvider::new());
    /// assert_eq!(pool.status().len(), 1);
    /// ```
    pub fn empty() -> Self {
        Self {
            members: Vec::new(),
            strategy: Strategy::default(),
            policy: Policy {
                eject_after: 3,
                probe_after: Duration::from_secs(30),
            },
            turn: AtomicUsize::new(0),
        }
    }

    /// The same pool with `provider` added last.
    ///
    /// ```
    /// use instructor_core::testing::ScriptedProvider;
    /// let pool = instructor_providers::Pool::new([ScriptedProvider::new()]).and(ScriptedProvider::new());
    /// assert_eq!(pool.status().len(), 2);
    /// ```
    pub fn and(self, provider: impl Provider + 'static) -> Self {
        self.and_shared(Arc::new(provider))
    }

    /// The same pool with a shared `provider` added last.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use instructor_core::testing::ScriptedProvider;
    /// let pool = instructor_providers::Pool::empty().and_shared(Arc::new(ScriptedProvider::new()));
    /// assert_eq!(pool.status().len(), 1);
    /// ```
    pub fn and_shared(mut self, provider: Arc<dyn Provider>) -> Self {
        self.members.push(Arc::new(Member::new(provider)));
        self
    }

    /// How members are chosen ([`Strategy::RoundRobin`] unless set).
    ///
    /// ```
    /// use instructor_core::testing::ScriptedProvider;
    /// use instructor_providers::{Pool, Strategy};
    /// let pool = Pool::new([ScriptedProvider::new()]).strategy(Strategy::LeastInFlight);
    /// # let _ = pool;
    /// ```
    pub fn strategy(mut self, strategy: Strategy) -> Self {
        self.strategy = strategy;
        self
    }

    /// How many transient failures in a row set a member aside (3 unless set; 0 counts as
    /// 1).
    ///
    /// ```
    /// use instructor_core::testing::ScriptedProvider;
    /// let pool = instructor_providers::Pool::new([ScriptedProvider::new()]).eject_after(5);
    /// # let _ = pool;
    /// ```
    pub fn eject_after(mut self, failures: u32) -> Self {
        self.policy.eject_after = failures.max(1);
        self
    }

    /// How long a member set aside waits before its probe (30 s unless set).
    ///
    /// ```
    /// use std::time::Duration;
    /// use instructor_core::testing::ScriptedProvider;
    /// let pool = instructor_providers::Pool::new([ScriptedProvider::new()]).probe_after(Duration::from_secs(5));
    /// # let _ = pool;
    /// ```
    pub fn probe_after(mut self, wait: Duration) -> Self {
        self.policy.probe_after = wait;
        self
    }

    /// Each member's state now, in the pool's order: calls in flight, failures in a row,
    /// whether it is set aside.
    ///
    /// ```
    /// use instructor_core::testing::ScriptedProvider;
    /// let pool = instructor_providers::Pool::new([ScriptedProvider::new()]);
    /// assert!(pool.status().iter().all(|m| !m.ejected && m.in_flight == 0));
    /// ```
    pub fn status(&self) -> Vec<MemberStatus> {
        self.members.iter().map(|m| m.status()).collect()
    }

    /// Chooses the member for the next call: a member whose probe is due, else one in
    /// service by the strategy, else (all set aside) the one whose probe is due soonest.
    fn pick(&self) -> Result<Ticket, Error> {
        let count = self.members.len();
        if count == 0 {
            return Err(Error::Config("the provider pool has no members".to_owned()));
        }
        let start = self.turn.fetch_add(1, Ordering::Relaxed) % count;
        let in_turn = || self.members[start..].iter().chain(&self.members[..start]);
        let now = Instant::now();
        if let Some(member) = in_turn().find(|m| m.try_claim_probe(now)) {
            return Ok(Ticket::new(member.clone(), self.policy, true));
        }
        let mut healthy = in_turn().filter(|m| m.is_healthy());
        let chosen = match self.strategy {
            Strategy::RoundRobin => healthy.next(),
            Strategy::LeastInFlight => healthy.min_by_key(|m| m.in_flight()),
        };
        if let Some(member) = chosen {
            return Ok(Ticket::new(member.clone(), self.policy, false));
        }
        let soonest = in_turn()
            .min_by_key(|m| m.probe_due())
            .ok_or_else(|| Error::Config("the provider pool has no members".to_owned()))?;
        soonest.force_probe();
        Ok(Ticket::new(soonest.clone(), self.policy, true))
    }
}

/// The capabilities every member has.
fn common_capabilities(members: &[Arc<Member>]) -> Capabilities {
    let all: Vec<Capabilities> = members
        .iter()
        .map(|m| m.provider().capabilities())
        .collect();
    let Some(first) = all.first() else {
        return Capabilities::new(&[]);
    };
    let modes: Vec<Mode> = first
        .modes
        .iter()
        .copied()
        .filter(|mode| all.iter().all(|c| c.supports(*mode)))
        .collect();
    let mut capabilities = Capabilities::new(&modes)
        .with_streaming(all.iter().all(|c| c.streaming))
        .with_images(all.iter().all(|c| c.images))
        .with_documents(all.iter().all(|c| c.documents))
        .with_audio(all.iter().all(|c| c.audio));
    if modes.contains(&first.default_mode) {
        capabilities = capabilities.with_default_mode(first.default_mode);
    }
    capabilities
}

#[async_trait]
impl Provider for Pool {
    fn name(&self) -> &str {
        "pool"
    }

    fn capabilities(&self) -> Capabilities {
        common_capabilities(&self.members)
    }

    /// `pool[` and the members' identities, comma separated, then `]`.
    fn cache_identity(&self) -> String {
        let members: Vec<String> = self
            .members
            .iter()
            .map(|m| m.provider().cache_identity())
            .collect();
        format!("pool[{}]", members.join(","))
    }

    /// The first member's body.
    fn wire_body(&self, request: &Request) -> Result<serde_json::Value, Error> {
        match self.members.first() {
            Some(member) => member.provider().wire_body(request),
            None => Err(Error::Config("the provider pool has no members".to_owned())),
        }
    }

    async fn send(&self, request: &Request) -> Result<Response, Error> {
        let mut ticket = self.pick()?;
        let result = ticket.provider().send(request).await;
        ticket.record(result.as_ref().err());
        result
    }

    async fn stream(&self, request: &Request) -> Result<EventStream, Error> {
        let mut ticket = self.pick()?;
        match ticket.provider().stream(request).await {
            Ok(events) => {
                ticket.record(None);
                Ok(Box::pin(Counted::new(events, ticket)))
            }
            Err(error) => {
                ticket.record(Some(&error));
                Err(error)
            }
        }
    }
}
