package io.tributary.gateway;

import static com.tngtech.archunit.base.DescribedPredicate.not;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAPackage;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAnyPackage;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.assertj.core.api.Assertions.assertThat;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;

/**
 * The layering rules of {@code docs/architecture.md} ("Layering"), checked on the main classes of
 * core, the SDK, the connectors and the gateway (all on this module's test class path; tests are
 * not checked: a connector's test may run a whole {@code Pipeline}). A rule that fails names each
 * offending dependency with its class and line.
 *
 * <p>There is no list of tolerated violations: fix the code (move what a connector needs into
 * {@code core.api}), or change the rule here and in the document together.
 */
@AnalyzeClasses(packages = "io.tributary", importOptions = ImportOption.DoNotIncludeTests.class)
class ArchitectureTest {
  private static final String API = "io.tributary.core.api..";

  /** Public SPI of checkpoint storage: connector-file implements it for HDFS and S3. */
  private static final String CHECKPOINT = "io.tributary.core.checkpoint..";

  @ArchTest
  static final ArchRule apiDependsOnNoImplementation =
      noClasses()
          .that()
          .resideInAPackage(API)
          .should()
          .dependOnClassesThat()
          .resideInAnyPackage(
              "..internal..",
              "io.tributary.core.runtime..",
              "io.tributary.core.sinks..",
              "io.tributary.core.sources..",
              "io.tributary.gateway..",
              "io.tributary.connector..",
              "io.tributary.sdk..")
          .because(
              "core.api is the contract: what a connector implements must not pull in the engine");

  @ArchTest
  static final ArchRule coreDependsOnNoModuleBuiltOnIt =
      noClasses()
          .that()
          .resideInAPackage("io.tributary.core..")
          .should()
          .dependOnClassesThat()
          .resideInAnyPackage(
              "io.tributary.gateway..", "io.tributary.connector..", "io.tributary.sdk..")
          .because("core is the bottom layer");

  @ArchTest
  static final ArchRule connectorsUseCoreOnlyThroughItsPublicPackages =
      noClasses()
          .that()
          .resideInAPackage("io.tributary.connector..")
          .should()
          .dependOnClassesThat(
              resideInAPackage("io.tributary..")
                  .and(
                      not(
                          resideInAnyPackage(
                              "io.tributary.connector..", API, CHECKPOINT, "io.tributary.sdk.."))))
          .because(
              "connectors use core only through core.api (and the checkpoint storage SPI) and may build on the"
                  + " SDK; the engine's packages can change under them");

  @ArchTest
  static final ArchRule connectorsDoNotDependOnEachOther =
      slices()
          .matching("io.tributary.connector.(*)..")
          .should()
          .notDependOnEachOther()
          .because("each connector ships as its own jar; the gateway may have any subset of them");

  @ArchTest
  static final ArchRule sdkUsesOnlyCoreApi =
      noClasses()
          .that()
          .resideInAPackage("io.tributary.sdk..")
          .should()
          .dependOnClassesThat(
              resideInAPackage("io.tributary..")
                  .and(not(resideInAnyPackage("io.tributary.sdk..", API))))
          .because("receivers built on the SDK must keep working when the engine changes");

  @ArchTest
  static final ArchRule onlyTheTestKitUsesTestLibraries =
      noClasses()
          .that()
          .resideOutsideOfPackage("io.tributary.sdk.testkit..")
          .should()
          .dependOnClassesThat()
          .resideInAnyPackage(
              "io.tributary.sdk.testkit..", "org.junit..", "org.assertj..", "org.awaitility..")
          .because(
              "JUnit, AssertJ and Awaitility are optional dependencies of the SDK, absent at run time");

  /**
   * Guards the rules against passing vacuously because a module's classes were not on the class
   * path.
   */
  @ArchTest
  static void everyModuleIsImported(JavaClasses classes) {
    assertThat(classes.contain("io.tributary.core.api.Receiver")).as("core").isTrue();
    assertThat(classes.contain("io.tributary.sdk.PollingReceiver"))
        .as("custom-receiver-sdk")
        .isTrue();
    assertThat(classes.contain("io.tributary.connector.socket.SocketServerReceiver"))
        .as("connector-socket")
        .isTrue();
    assertThat(classes.contain("io.tributary.connector.kafka.KafkaSink"))
        .as("connector-kafka")
        .isTrue();
    assertThat(classes.contain("io.tributary.connector.file.FileSource"))
        .as("connector-file")
        .isTrue();
    assertThat(classes.contain("io.tributary.connector.kinesis.KinesisDirectSource"))
        .as("connector-kinesis")
        .isTrue();
    assertThat(classes.contain("io.tributary.connector.flume.FlumePushReceiver"))
        .as("connector-flume")
        .isTrue();
    assertThat(classes.contain("io.tributary.gateway.Gateway")).as("gateway").isTrue();
    assertThat(classes.contain("io.tributary.gateway.ArchitectureTest"))
        .as("tests are not checked")
        .isFalse();
  }
}
