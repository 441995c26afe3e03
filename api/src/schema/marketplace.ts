// What the dashboard needs to know about the marketplace before it shows anything: the time zone
// and locale every date and time is written in (MARKETPLACE_TIME_ZONE, MARKETPLACE_LOCALE).
import { builder } from "../builder.ts";

interface Marketplace {
  timeZone: string;
  locale: string;
}

const MarketplaceType = builder.objectRef<Marketplace>("Marketplace").implement({
  description: "The marketplace's settings the dashboard writes dates and times with.",
  fields: (t) => ({
    timeZone: t.exposeString("timeZone", {
      description: "IANA zone of the marketplace's days and clock (MARKETPLACE_TIME_ZONE), e.g. Australia/Melbourne.",
    }),
    locale: t.exposeString("locale", {
      description: "BCP 47 locale dates and times are written in (MARKETPLACE_LOCALE), e.g. en-AU.",
    }),
  }),
});

builder.queryFields((t) => ({
  marketplace: t.field({
    type: MarketplaceType,
    description: "The marketplace's time zone and locale (anyone may ask: the sign-in pages show times too).",
    resolve: (_root, _args, { env }) => ({ timeZone: env.MARKETPLACE_TIME_ZONE, locale: env.MARKETPLACE_LOCALE }),
  }),
}));
