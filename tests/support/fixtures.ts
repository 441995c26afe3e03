// Small, explicit fixtures: each test creates exactly the rows it talks about.
import type { AlertRuleKey } from "@steward/core/alertRuleKeys";
import { hashPassword } from "@steward/core/passwords";
import type { Db, Role } from "@steward/db/client";

export const TEST_PASSWORD = "correct horse battery staple";

/**
 * A rule key of the test's own, outside the registry (raisers in core only take registered keys),
 * so its alerts never mix with a real rule's.
 */
export const testRuleKey = (key: string): AlertRuleKey => key as AlertRuleKey;

export async function createOperator(db: Db, role: Role, email = `${role.toLowerCase()}@test.example`) {
  return db.operator.create({
    data: { email, name: `${role} Tester`, role, passwordHash: await hashPassword(TEST_PASSWORD) },
  });
}
