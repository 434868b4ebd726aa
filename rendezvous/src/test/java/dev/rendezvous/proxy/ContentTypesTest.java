package dev.rendezvous.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The media type is what counts, whatever its case and parameters. */
class ContentTypesTest {

  @Test
  void parameters_and_case_do_not_matter_and_a_blank_header_is_none() {
    assertThat(ContentTypes.mediaType("application/json")).isEqualTo("application/json");
    assertThat(ContentTypes.mediaType("Application/JSON; charset=UTF-8")).isEqualTo("application/json");
    assertThat(ContentTypes.mediaType(" text/yaml ;x=y")).isEqualTo("text/yaml");
    assertThat(ContentTypes.mediaType("  ")).isNull();
    assertThat(ContentTypes.mediaType(null)).isNull();
  }
}
