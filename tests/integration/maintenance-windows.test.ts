// Maintenance windows through the real API: only ADMINs declare or end them, bad input is a typed
// error that creates nothing, and while a window runs, alerts of its rules are raised and shown
// but queue no notification (the timeline says which window held it back). Audited.
import { type AlertCondition, raiseAlert } from "@steward/core/alerts";
import { channelSecretCipher } from "@steward/core/channelSecrets";
import { upsertNotificationChannel } from "@steward/core/notificationChannels";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApi, type TestApi } from "../support/api.ts";
import { createOperator, TEST_PASSWORD, testRuleKey } from "../support/fixtures.ts";
import { quietDeps } from "../support/deps.ts";

let api: TestApi;
let adminCookie: string;
let operatorCookie: string;
let viewerCookie: string;
let sequence = 0;

const SCHEDULE = /* GraphQL */ `
  mutation Schedule($input: MaintenanceWindowInput!) {
    scheduleMaintenanceWindow(input: $input) {
      __typename
      ... on Error {
        message
      }
      ... on MutationScheduleMaintenanceWindowSuccess {
        data {
          id
          state
          ruleKeys
        }
      }
    }
  }
`;
const END = /* GraphQL */ `
  mutation End($id: ID!) {
    endMaintenanceWindow(id: $id) {
      __typename
      ... on MutationEndMaintenanceWindowSuccess {
        data {
          state
        }
      }
    }
  }
`;

interface ScheduleAnswer {
  scheduleMaintenanceWindow: { __typename: string; message?: string; data?: { id: string; state: string } };
}

const inMinutes = (minutes: number) => new Date(Date.now() + minutes * 60_000).toISOString();

function schedule(input: Record<string, unknown>, cookie = adminCookie) {
  return api.graphql<ScheduleAnswer>(
    SCHEDULE,
    { input: { title: "Database upgrade", startsAt: inMinutes(-1), endsAt: inMinutes(60), ruleKeys: [], ...input } },
    { cookie },
  );
}

const condition = (ruleKey: string): AlertCondition => {
  const n = ++sequence;
  return {
    fingerprint: `${ruleKey}:${n}`,
    ruleKey: testRuleKey(ruleKey),
    severity: "RED",
    title: `Condition ${n}`,
    detail: `Detail ${n}`,
  };
};

/** Raises an alert and says how many notifications it queued, and what its timeline noted. */
async function raise(ruleKey: string) {
  await raiseAlert(quietDeps(api.database.db), condition(ruleKey));
  const alert = await api.database.db.alert.findFirstOrThrow({
    where: { ruleKey },
    orderBy: { firstSeenAt: "desc" },
    include: { outbox: true, events: true },
  });
  return {
    status: alert.status,
    queued: alert.outbox.length,
    notes: alert.events.filter((event) => event.kind === "NOTIFIED").map((event) => event.message),
  };
}

beforeAll(async () => {
  api = await startTestApi();
  const admin = await createOperator(api.database.db, "ADMIN", "ada@test.example");
  await createOperator(api.database.db, "OPERATOR", "otto@test.example");
  await createOperator(api.database.db, "VIEWER", "vic@test.example");
  adminCookie = await api.loginCookie("ada@test.example", TEST_PASSWORD);
  operatorCookie = await api.loginCookie("otto@test.example", TEST_PASSWORD);
  viewerCookie = await api.loginCookie("vic@test.example", TEST_PASSWORD);
  // A channel that takes RED, so an alert that notifies queues one message.
  await upsertNotificationChannel(
    { db: api.database.db, secrets: channelSecretCipher({}) },
    { kind: "OPERATOR", id: admin.id, email: admin.email, name: admin.name, role: "ADMIN" },
    {
      name: "Tickets",
      kind: "WEBHOOK",
      severities: ["RED"],
      url: "http://127.0.0.1:9/tickets",
      secret: "ticket-webhook-secret-0123456789",
    },
  );
});
afterAll(async () => {
  await api?.stop();
});

describe("maintenance windows", () => {
  it("only an ADMIN declares one; every operator sees it", async () => {
    for (const cookie of [operatorCookie, viewerCookie]) {
      const refused = await schedule({}, cookie);
      expect(refused.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    }
    expect(await api.database.db.maintenanceWindow.count()).toBe(0);
  });

  it("refuses bad input with a typed error and creates nothing", async () => {
    const backwards = await schedule({ startsAt: inMinutes(60), endsAt: inMinutes(30) });
    expect(backwards.data?.scheduleMaintenanceWindow).toMatchObject({ __typename: "InvalidInputError" });
    const tooLong = await schedule({ endsAt: inMinutes(8 * 24 * 60) });
    expect(tooLong.data?.scheduleMaintenanceWindow.__typename).toBe("InvalidInputError");
    const past = await schedule({ startsAt: inMinutes(-120), endsAt: inMinutes(-60) });
    expect(past.data?.scheduleMaintenanceWindow.__typename).toBe("InvalidInputError");
    const badRule = await schedule({ ruleKeys: ["Not A Rule!"] });
    expect(badRule.data?.scheduleMaintenanceWindow.__typename).toBe("InvalidInputError");
    const noTitle = await schedule({ title: "" });
    expect(noTitle.data?.scheduleMaintenanceWindow.__typename).toBe("ValidationError");
    expect(await api.database.db.maintenanceWindow.count()).toBe(0);
  });

  it("while active, alerts of its rules are raised but not notified; other rules still notify", async () => {
    expect((await raise("maint.db")).queued).toBe(1);

    const scheduled = await schedule({ ruleKeys: ["maint.db"] });
    const window = scheduled.data?.scheduleMaintenanceWindow.data;
    expect(window?.state).toBe("ACTIVE");

    const muted = await raise("maint.db");
    expect(muted).toMatchObject({ status: "FIRING", queued: 0 });
    expect(muted.notes.join()).toContain('maintenance window "Database upgrade"');
    expect((await raise("maint.other")).queued).toBe(1);

    const listed = await api.graphql<{ maintenanceWindows: { id: string; state: string }[] }>(
      `{ maintenanceWindows(activeOnly: true) { id state } }`,
      {},
      { cookie: viewerCookie },
    );
    expect(listed.data?.maintenanceWindows).toEqual([{ id: window?.id, state: "ACTIVE" }]);

    const ended = await api.graphql<{ endMaintenanceWindow: { data?: { state: string } } }>(
      END,
      { id: window?.id },
      { cookie: adminCookie },
    );
    expect(ended.data?.endMaintenanceWindow.data?.state).toBe("ENDED");
    expect((await raise("maint.db")).queued).toBe(1);

    const actions = await api.database.db.auditEvent.findMany({
      where: { targetType: "MaintenanceWindow" },
      orderBy: { createdAt: "asc" },
    });
    expect(actions.map((action) => action.action)).toEqual([
      "maintenance_window.scheduled",
      "maintenance_window.ended",
    ]);
  });

  it("a window declared for later mutes nothing yet, and every rule when it lists none", async () => {
    const later = await schedule({ startsAt: inMinutes(60), endsAt: inMinutes(120) });
    expect(later.data?.scheduleMaintenanceWindow.data?.state).toBe("SCHEDULED");
    expect((await raise("maint.later")).queued).toBe(1);

    await schedule({ title: "Everything", ruleKeys: [] });
    expect((await raise("maint.anything")).queued).toBe(0);
  });
});
