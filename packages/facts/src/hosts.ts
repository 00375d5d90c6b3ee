// scheme://[userinfo@]host[:port]... ; IPv6 hosts keep their brackets.
const URL_HOST = /^[a-z][a-z0-9+.-]*:\/\/(?:[^@/?#]*@)?(\[[^\]]+\]|[^:/?#]+)/i;

/**
 * The host a span called out to: `server.address`, else the host of `url.full`.
 * A regex rather than `new URL()`: it runs for every span and must not throw.
 */
export function outboundHost(serverAddress: string, urlFull: string): string {
  if (serverAddress !== "") return serverAddress.toLowerCase();
  if (urlFull === "") return "";
  return URL_HOST.exec(urlFull)?.[1]?.toLowerCase() ?? "";
}
