// Answering a person through a signed request's response_url (what Bolt's `respond()` does), from
// whichever replica runs the command job.
export async function postResponse(responseUrl: string, message: object): Promise<void> {
  const response = await fetch(responseUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(message),
    signal: AbortSignal.timeout(10_000),
  });
  await response.body?.cancel();
  if (!response.ok) throw new Error(`response_url answered ${response.status}`);
}
