// A subscription over graphql-transport-ws on /graphql; the session cookie signs the socket in.
export function subscribe(query, variables, onData, onState) {
  let socket = null;
  let cursor = null;
  let stopped = false;
  const open = () => {
    socket = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/graphql`, "graphql-transport-ws");
    socket.addEventListener("open", () => socket.send(JSON.stringify({ type: "connection_init", payload: {} })));
    socket.addEventListener("message", (message) => {
      const data = JSON.parse(message.data);
      if (data.type === "connection_ack") {
        onState("live");
        socket.send(JSON.stringify({ id: "1", type: "subscribe", payload: { query, variables: { ...variables, after: cursor } } }));
      } else if (data.type === "next" && data.payload.data) {
        const update = Object.values(data.payload.data)[0];
        cursor = update.cursor ?? cursor;
        onData(update);
      } else if (data.type === "ping") {
        socket.send(JSON.stringify({ type: "pong" }));
      }
    });
    // Reconnect after a lost connection, going on from the last cursor received.
    socket.addEventListener("close", () => {
      onState("offline");
      if (!stopped) setTimeout(open, 3000);
    });
  };
  open();
  return () => { stopped = true; socket?.close(); };
}
