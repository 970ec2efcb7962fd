package io.lambdalake.ingestion.landing;

import static org.assertj.core.api.Assertions.assertThat;

import io.lambdalake.ingestion.landing.TrafficSources.Traffic;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class TrafficSourcesTest {
  private static final Optional<String> PAGE =
      Optional.of("https://shop.example.com/products?id=3");

  @Test
  void utmParametersWinOverTheReferrer() {
    assertThat(
            TrafficSources.classify(
                PAGE,
                Optional.of("https://www.google.com/"),
                Map.of(
                    "utm_source",
                    "Newsletter",
                    "utm_medium",
                    "Email",
                    "utm_campaign",
                    "spring-sale")))
        .isEqualTo(new Traffic("newsletter", "email", Optional.of("spring-sale")));
  }

  @Test
  void utmParametersAreReadFromThePageUrlToo() {
    assertThat(
            TrafficSources.classify(
                Optional.of(
                    "https://shop.example.com/?utm_source=ads&utm_medium=cpc&utm_campaign=b%20f"),
                Optional.empty(),
                Map.of()))
        .isEqualTo(new Traffic("ads", "cpc", Optional.of("b f")));
  }

  @Test
  void noReferrerIsDirect() {
    assertThat(TrafficSources.classify(PAGE, Optional.empty(), Map.of()))
        .isEqualTo(new Traffic("(direct)", "(none)", Optional.empty()));
  }

  @Test
  void searchEnginesAreOrganicAndSocialNetworksSocial() {
    assertThat(
            TrafficSources.classify(
                PAGE, Optional.of("https://www.google.co.uk/search?q=x"), Map.of()))
        .isEqualTo(new Traffic("google", "organic", Optional.empty()));
    assertThat(TrafficSources.classify(PAGE, Optional.of("https://duckduckgo.com/"), Map.of()))
        .isEqualTo(new Traffic("duckduckgo", "organic", Optional.empty()));
    assertThat(TrafficSources.classify(PAGE, Optional.of("https://m.facebook.com/story"), Map.of()))
        .isEqualTo(new Traffic("facebook", "social", Optional.empty()));
    assertThat(TrafficSources.classify(PAGE, Optional.of("https://t.co/abc"), Map.of()))
        .isEqualTo(new Traffic("twitter", "social", Optional.empty()));
  }

  @Test
  void otherSitesAreReferralsAndTheSiteItselfIsDirect() {
    assertThat(TrafficSources.classify(PAGE, Optional.of("https://news.example.org/a"), Map.of()))
        .isEqualTo(new Traffic("news.example.org", "referral", Optional.empty()));
    assertThat(
            TrafficSources.classify(
                PAGE, Optional.of("https://www.shop.example.com/cart"), Map.of()))
        .isEqualTo(new Traffic("(direct)", "(none)", Optional.empty()));
  }

  @Test
  void garbageReferrersAndEscapesDoNotBreakIt() {
    assertThat(TrafficSources.classify(PAGE, Optional.of("not a url ::"), Map.of()))
        .isEqualTo(new Traffic("(direct)", "(none)", Optional.empty()));
    assertThat(
            TrafficSources.classify(
                Optional.of("https://shop.example.com/?utm_source=%E0%A4%A&utm_medium=x"),
                Optional.empty(),
                Map.of()))
        .isEqualTo(new Traffic("(direct)", "(none)", Optional.empty()));
  }
}
