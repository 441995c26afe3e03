// The seed seals channel secrets under the key the API and worker it starts will read: the
// caller's NOTIFY_SECRET_KEY (they inherit it), else the development key.
import { channelSecretCipher, type SecretCipher } from "@steward/core/channelSecrets";
import { loadEnv } from "@steward/core/env";

export function seedCipher(): SecretCipher {
  return channelSecretCipher(loadEnv({ NOTIFY_SECRET_KEY: process.env.NOTIFY_SECRET_KEY }));
}
