// Small, explicit fixtures: each test creates exactly the rows it talks about.
import { hashPassword } from "@steward/core/passwords";
import type { Db, Role } from "@steward/db/client";

export const TEST_PASSWORD = "correct horse battery staple";

export async function createOperator(db: Db, role: Role, email = `${role.toLowerCase()}@test.example`) {
  return db.operator.create({
    data: { email, name: `${role} Tester`, role, passwordHash: await hashPassword(TEST_PASSWORD) },
  });
}
