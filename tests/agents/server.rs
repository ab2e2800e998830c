//! A loopback HTTP/1.1 server that plays scripted responses, one script per connection.
//!
//! It records each request (method, path, headers, body read by `Content-Length`), then plays
//! the script of that connection: a whole response, or a chunked stream written piece by piece
//! with pauses. A stream whose script has no [`Step::End`] is cut off by dropping the socket,
//! which is how a test breaks a stream mid-way. Every response says `Connection: close`.
//! [`Server::respond`] chooses each script from the request instead (which brief it carries),
//! and records when each request came and when its script ended, for tests of what runs at once.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// One request as the server received it.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    /// Names in lower case.
    pub headers: Vec<(String, String)>,
    pub body: String,
    /// When the request was read whole. For the pipeline tests; tests/agents.rs reads none.
    #[allow(dead_code)]
    pub started: Instant,
    /// When the script of its response ended (`None`: not yet, or the connection broke).
    #[allow(dead_code)]
    pub ended: Option<Instant>,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).expect("the request body is JSON")
    }

    /// The text of the last message, as an OpenAI-compatible request carries it.
    #[allow(dead_code)]
    pub fn last_message(&self) -> String {
        let json = self.json();
        let messages = json["messages"].as_array().expect("messages");
        let last = messages.last().expect("a message");
        last["content"].as_str().unwrap_or_default().to_owned()
    }
}

/// Chooses the script of a response from the connection's number (in the order accepted) and
/// its request.
type Respond = dyn Fn(usize, &Recorded) -> Vec<Step> + Send + Sync;

/// What the server does next on a connection.
#[derive(Clone, Debug)]
pub enum Step {
    /// A whole response with a `Content-Length` body.
    Reply {
        status: u16,
        headers: Vec<(&'static str, String)>,
        body: String,
    },
    /// The head of a chunked `200` stream with this content type.
    Stream(&'static str),
    /// One chunk of the stream.
    Chunk(Vec<u8>),
    Pause(Duration),
    /// The stream's last chunk; without it the connection is dropped mid-stream.
    End,
    /// Says nothing for a long while (longer than any test waits).
    Silence,
}

/// A running server; it stops with the test's runtime.
pub struct Server {
    pub url: String,
    requests: Arc<Mutex<Vec<Recorded>>>,
}

impl Server {
    /// Serves `scripts[n]` to the `n`th connection, and the last script to any later one.
    pub async fn start(scripts: Vec<Vec<Step>>) -> Server {
        Server::listen(Arc::new(move |connection: usize, _: &Recorded| {
            let last = scripts.len().saturating_sub(1);
            scripts
                .get(connection.min(last))
                .cloned()
                .unwrap_or_default()
        }))
        .await
    }

    /// Serves each request the script `respond` chooses for it.
    #[allow(dead_code)]
    pub async fn respond(
        respond: impl Fn(&Recorded) -> Vec<Step> + Send + Sync + 'static,
    ) -> Server {
        Server::listen(Arc::new(move |_, request: &Recorded| respond(request))).await
    }

    async fn listen(respond: Arc<Respond>) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(Mutex::new(Vec::new()));
        let recorded = Arc::clone(&requests);
        tokio::spawn(async move {
            let mut connection = 0;
            while let Ok((socket, _)) = listener.accept().await {
                let (respond, recorded) = (Arc::clone(&respond), Arc::clone(&recorded));
                tokio::spawn(serve(socket, connection, respond, recorded));
                connection += 1;
            }
        });
        Server { url, requests }
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().unwrap().clone()
    }
}

async fn serve(
    mut socket: TcpStream,
    connection: usize,
    respond: Arc<Respond>,
    requests: Arc<Mutex<Vec<Recorded>>>,
) {
    let Some(request) = read_request(&mut socket).await else {
        return;
    };
    let script = respond(connection, &request);
    let index = {
        let mut requests = requests.lock().unwrap();
        requests.push(request);
        requests.len() - 1
    };
    if play(&mut socket, script).await {
        requests.lock().unwrap()[index].ended = Some(Instant::now());
    }
}

/// Plays `script`; whether it was played to its end.
async fn play(socket: &mut TcpStream, script: Vec<Step>) -> bool {
    for step in script {
        let bytes = match step {
            Step::Reply {
                status,
                headers,
                body,
            } => {
                let mut head = format!("HTTP/1.1 {status} Status\r\nConnection: close\r\n");
                for (name, value) in headers {
                    head.push_str(&format!("{name}: {value}\r\n"));
                }
                head.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
                head.into_bytes()
            }
            Step::Stream(content_type) => format!(
                "HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
            )
            .into_bytes(),
            Step::Chunk(data) => {
                let mut chunk = format!("{:x}\r\n", data.len()).into_bytes();
                chunk.extend_from_slice(&data);
                chunk.extend_from_slice(b"\r\n");
                chunk
            }
            Step::End => b"0\r\n\r\n".to_vec(),
            Step::Pause(pause) => {
                tokio::time::sleep(pause).await;
                continue;
            }
            Step::Silence => {
                tokio::time::sleep(Duration::from_secs(60)).await;
                continue;
            }
        };
        if socket.write_all(&bytes).await.is_err() {
            return false;
        }
        let _ = socket.flush().await;
    }
    true
}

async fn read_request(socket: &mut TcpStream) -> Option<Recorded> {
    let mut buffer = Vec::new();
    let mut piece = [0u8; 8192];
    let head_end = loop {
        if let Some(at) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break at;
        }
        let read = socket.read(&mut piece).await.ok()?;
        if read == 0 {
            return None;
        }
        buffer.extend_from_slice(&piece[..read]);
    };
    let head = String::from_utf8(buffer[..head_end].to_vec()).ok()?;
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next()?.split(' ');
    let method = request_line.next()?.to_owned();
    let path = request_line.next()?.to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(name, _)| name == "content-length")
        .and_then(|(_, value)| value.parse().ok())
        .unwrap_or(0);
    let mut body = buffer[head_end + 4..].to_vec();
    while body.len() < length {
        let read = socket.read(&mut piece).await.ok()?;
        if read == 0 {
            return None;
        }
        body.extend_from_slice(&piece[..read]);
    }
    Some(Recorded {
        method,
        path,
        headers,
        body: String::from_utf8(body).ok()?,
        started: Instant::now(),
        ended: None,
    })
}

/// A chunked stream of `pieces`, ended properly.
pub fn stream(content_type: &'static str, pieces: &[String]) -> Vec<Step> {
    let mut steps = vec![Step::Stream(content_type)];
    steps.extend(
        pieces
            .iter()
            .map(|piece| Step::Chunk(piece.clone().into_bytes())),
    );
    steps.push(Step::End);
    steps
}

/// A whole response.
pub fn reply(status: u16, headers: &[(&'static str, &str)], body: &str) -> Vec<Step> {
    vec![Step::Reply {
        status,
        headers: headers
            .iter()
            .map(|(name, value)| (*name, (*value).to_owned()))
            .collect(),
        body: body.to_owned(),
    }]
}
