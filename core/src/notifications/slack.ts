// Slack incoming webhooks with Block Kit: a header, the text, the facts as fields, and a context
// line. Slack's limits (header 150 chars, section text 3,000, at most 10 fields of 2,000) are
// respected here, or Slack answers 400 invalid_blocks.
import { headline, type NotificationPayload, postJson, type SendOutcome } from "./http.ts";

type PlainText = { type: "plain_text"; text: string; emoji?: boolean };
type Markdown = { type: "mrkdwn"; text: string };
export type SlackBlock =
  | { type: "header"; text: PlainText }
  | { type: "section"; text?: Markdown; fields?: Markdown[] }
  | { type: "context"; elements: Markdown[] };

export interface SlackMessage {
  /** Shown in notifications and by clients that cannot render blocks. */
  text: string;
  blocks: SlackBlock[];
}

const EMOJI = { RED: ":red_circle:", YELLOW: ":large_yellow_circle:", GREEN: ":large_green_circle:" } as const;

const cut = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

export function slackMessage(notification: NotificationPayload): SlackMessage {
  const title = headline(notification);
  const fields = Object.entries(notification.fields)
    .slice(0, 10)
    .map(([name, value]): Markdown => ({ type: "mrkdwn", text: cut(`*${name}*\n${value}`, 2000) }));
  const blocks: SlackBlock[] = [
    { type: "header", text: { type: "plain_text", text: cut(title, 150), emoji: true } },
    { type: "section", text: { type: "mrkdwn", text: cut(notification.text || title, 3000) } },
  ];
  if (fields.length > 0) blocks.push({ type: "section", fields });
  blocks.push({
    type: "context",
    elements: [
      {
        type: "mrkdwn",
        text: cut(`${EMOJI[notification.severity]} ${notification.source} · ${notification.dedupKey}`, 3000),
      },
    ],
  });
  return { text: cut(title, 3000), blocks };
}

export function sendSlack(webhookUrl: string, notification: NotificationPayload): Promise<SendOutcome> {
  return postJson(webhookUrl, JSON.stringify(slackMessage(notification)));
}
