/**
 * The HTTP Digest side of a simulated AMT device: the checker is the runtime's own
 * (lib/wsman/digest-server.ts); the 401 page is the firmware's.
 */
export { DigestAuthenticator, md5, parseDigestHeader } from '../../../lib/wsman/digest-server';
export type { DigestOptions, DigestVerdict } from '../../../lib/wsman/digest-server';

/** The HTML AMT sends with a 401. */
export const UNAUTHORIZED_HTML =
  '<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01 Transitional//EN" >\n<html><head><link rel=stylesheet href=/styles.css>\n' +
  '<meta http-equiv="Content-Type" content="text/html; charset=utf-8">\n<title>Intel&reg; Active Management Technology</title></head>\n' +
  '<body><table class=header><tr><td valign=top nowrap><p class=top1>Intel<font class=r><sup>&reg;</sup></font> Active Management Technology</td></tr></table>\n' +
  '<br><h2 class=warn>Log on failed. Incorrect user name or password, or user account temporarily locked.</h2>\n' +
  '<p><form METHOD="GET" action="index.htm"><h2><input type=submit value="Try again"></h2></form></body></html>\n';
