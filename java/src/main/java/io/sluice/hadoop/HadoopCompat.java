package io.sluice.hadoop;

import java.io.IOException;
import java.lang.reflect.Constructor;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Options.OpenFileOptions;
import org.apache.hadoop.fs.permission.FsCreateModes;
import org.apache.hadoop.fs.permission.FsPermission;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the running Hadoop offers. The classes Hadoop loads by name ({@link SluiceFileSystem210},
 * {@link Sluice}) load on every Hadoop client from 2.10 on and reach newer Hadoop types only
 * through their subclasses and here, where they exist.
 *
 * <p>Choosing the FileSystem class. Three classes serve sluice://, each extending the one before
 * and each loading only on Hadoop that has the types it names: {@link SluiceFileSystem210} (every
 * operation; Hadoop 2.10+), {@link SluiceFileSystem} (IOStatistics, openFile, path handles, path
 * capabilities, CompositeCrcFileChecksum; 3.3.1+) and {@link SluiceFileSystem336} (SafeMode,
 * LeaseRecoverable; 3.3.6+). While Hadoop loads file systems (FileSystem.loadFileSystems, once
 * per JVM) it instantiates every class named in META-INF/services/org.apache.hadoop.fs.
 * FileSystem, and a class whose superinterface is missing throws a LinkageError out of that
 * loop, which Hadoop does not catch: every scheme, file:// too, is broken for the JVM. So the
 * services file names SluiceFileSystem210, which loads everywhere. Instantiating it in that loop
 * runs its static initialiser, which calls {@link #register()}: the richest class that loads on
 * this Hadoop is chosen, and unless that is SluiceFileSystem210 itself its default resource
 * ({@value #DEFAULTS_331} or {@value #DEFAULTS_336}, in the jar) is added to every
 * Configuration; it sets fs.sluice.impl to that class. FileSystem.getFileSystemClass reads
 * fs.sluice.impl before it looks at the classes the services file registered, so FileSystem.get
 * then makes the chosen class, while an fs.sluice.impl that the user sets (a site file,
 * conf.set, spark.hadoop.*) still wins over a default resource. HDFS adds hdfs-default.xml the
 * same way, from DistributedFileSystem's static initialiser in the same loop. On Hadoop 2.10
 * nothing is added and the services file's SluiceFileSystem210 serves.
 *
 * <p>Tested (tests/hadoop-compat.sh) on the client jars of Hadoop 2.10.2 (Java 11, 17, 21), 3.3.1,
 * 3.3.4 (Java 17), 3.3.6 and 3.4.1 (Java 11, 17, 21; on Java 25 Hadoop's own
 * UserGroupInformation fails, so only the class choice is checked there). Java 8, which the
 * bytecode targets, is untested. See docs/configuration.md, "Hadoop versions".
 *
 * <p>Binding FileContext. Hadoop finds an AbstractFileSystem only through
 * fs.AbstractFileSystem.SCHEME.impl (core-default.xml sets it for hdfs), so {@link #register()}
 * adds {@value #DEFAULTS} on every Hadoop: FileContext works on sluice:// wherever the services
 * file was read, as Spark's Structured Streaming checkpoints expect, with no setting. A JVM
 * that asks FileContext for sluice:// before it has used any FileSystem still needs the key.
 */
final class HadoopCompat {
  private static final Logger LOG = LoggerFactory.getLogger(SluiceFileSystem210.class);

  /** The default resource binding FileContext (fs.AbstractFileSystem.sluice.impl; in the jar). */
  static final String DEFAULTS = "io/sluice/hadoop/sluice-default.xml";

  /** The default resource naming SluiceFileSystem in fs.sluice.impl (Hadoop 3.3.1 to 3.3.5). */
  static final String DEFAULTS_331 = "io/sluice/hadoop/sluice-default-331.xml";
  /** The default resource naming SluiceFileSystem336 in fs.sluice.impl (Hadoop 3.3.6+). */
  static final String DEFAULTS_336 = "io/sluice/hadoop/sluice-default-336.xml";

  /** Whether Options.OpenFileOptions (Hadoop 3.3.5) is there. */
  private static final boolean OPEN_FILE_OPTIONS =
      present("org.apache.hadoop.fs.Options$OpenFileOptions", FileSystem.class);

  /**
   * The option keys openFile() must accept: Hadoop's own set from 3.3.5 on (it grows: 3.4 added
   * a footer cache key), else the 3.3.6 list. The keys are compile-time constants, so naming
   * them needs no OpenFileOptions at run time; only its Set fields do.
   */
  static final Set<String> OPEN_FILE_STANDARD_OPTIONS = OPEN_FILE_OPTIONS
      ? OpenFileOptions.FS_OPTION_OPENFILE_STANDARD_OPTIONS
      : setOf(OpenFileOptions.FS_OPTION_OPENFILE_BUFFER_SIZE,
          OpenFileOptions.FS_OPTION_OPENFILE_READ_POLICY,
          OpenFileOptions.FS_OPTION_OPENFILE_LENGTH,
          OpenFileOptions.FS_OPTION_OPENFILE_SPLIT_START,
          OpenFileOptions.FS_OPTION_OPENFILE_SPLIT_END);

  /** The read policies Hadoop defines: its own set from 3.3.5 on, else the 3.3.6 list. */
  static final Set<String> READ_POLICIES = OPEN_FILE_OPTIONS
      ? OpenFileOptions.FS_OPTION_OPENFILE_READ_POLICIES
      : setOf(OpenFileOptions.FS_OPTION_OPENFILE_READ_POLICY_ADAPTIVE,
          OpenFileOptions.FS_OPTION_OPENFILE_READ_POLICY_DEFAULT,
          OpenFileOptions.FS_OPTION_OPENFILE_READ_POLICY_RANDOM,
          OpenFileOptions.FS_OPTION_OPENFILE_READ_POLICY_SEQUENTIAL,
          OpenFileOptions.FS_OPTION_OPENFILE_READ_POLICY_VECTOR,
          OpenFileOptions.FS_OPTION_OPENFILE_READ_POLICY_WHOLE_FILE);

  /** The richest FileSystem class that loads on this Hadoop. */
  private static final Class<? extends SluiceFileSystem210> FILE_SYSTEM_CLASS = chooseClass();

  private static final AtomicBoolean WARNED = new AtomicBoolean();

  private HadoopCompat() {}

  /**
   * Makes fs.AbstractFileSystem.sluice.impl default to {@link Sluice}, and fs.sluice.impl to
   * {@link #fileSystemClass()} when that is not SluiceFileSystem210 (see the class comment).
   * Idempotent: Configuration adds a default resource once.
   */
  static void register() {
    LOG.debug("sluice:// FileSystem class for this Hadoop: {}", FILE_SYSTEM_CLASS.getName());
    Configuration.addDefaultResource(DEFAULTS);
    String resource = defaultResource(FILE_SYSTEM_CLASS);
    if (resource != null) {
      Configuration.addDefaultResource(resource);
    }
  }

  /** The default resource that names cls in fs.sluice.impl; null for SluiceFileSystem210. */
  static String defaultResource(Class<?> cls) {
    switch (cls.getName()) {
      case SluiceConstants.FS_SLUICE_IMPL_336:
        return DEFAULTS_336;
      case SluiceConstants.FS_SLUICE_IMPL_DEFAULT:
        return DEFAULTS_331;
      default:
        return null;
    }
  }

  /**
   * SluiceFileSystem336 on Hadoop 3.3.6 and later, SluiceFileSystem on 3.3.1 to 3.3.5, else
   * SluiceFileSystem210.
   */
  static Class<? extends SluiceFileSystem210> fileSystemClass() {
    return FILE_SYSTEM_CLASS;
  }

  /**
   * A new instance of {@link #fileSystemClass()} for FileContext's {@link Sluice} (delegate: not
   * chosen through fs.sluice.impl, so never warned about).
   */
  static SluiceFileSystem210 newDelegate() throws IOException {
    try {
      Constructor<? extends SluiceFileSystem210> c =
          FILE_SYSTEM_CLASS.getDeclaredConstructor(boolean.class);
      return c.newInstance(true);
    } catch (ReflectiveOperationException e) {
      throw new IOException("Cannot make a " + FILE_SYSTEM_CLASS.getName() + " for"
          + " FileContext", e);
    }
  }

  /**
   * Once per JVM, {@link #lackingWarning} as a warning: a poorer class than {@link
   * #fileSystemClass()} serves sluice:// on this Hadoop.
   */
  static void warnIfLacking(SluiceFileSystem210 fs, Configuration conf) {
    String warning = lackingWarning(fs, conf);
    if (warning != null && WARNED.compareAndSet(false, true)) {
      LOG.warn(warning);
    }
  }

  /**
   * What to tell a user whose fs is one of Sluice's classes but poorer than {@link
   * #fileSystemClass()} on this Hadoop (fs.sluice.impl names it, or conf was made without
   * default resources); null when there is nothing to say.
   */
  static String lackingWarning(SluiceFileSystem210 fs, Configuration conf) {
    Class<?> cls = fs.getClass();
    if (cls == FILE_SYSTEM_CLASS || !cls.isAssignableFrom(FILE_SYSTEM_CLASS)) {
      return null;
    }
    String impl = conf.get(SluiceConstants.FS_SLUICE_IMPL);
    return "sluice:// is served by " + cls.getName() + " ("
        + SluiceConstants.FS_SLUICE_IMPL + " = " + (impl == null ? "unset" : impl)
        + "), which lacks interfaces of this Hadoop that " + FILE_SYSTEM_CLASS.getName()
        + " implements (" + lacking(cls) + "). Set "
        + SluiceConstants.FS_SLUICE_IMPL + " = " + FILE_SYSTEM_CLASS.getName() + ", or leave "
        + SluiceConstants.FS_SLUICE_IMPL + " unset so the jar picks the class that fits the"
        + " running Hadoop.";
  }

  /** What cls lacks that {@link #fileSystemClass()} has, in words. */
  private static String lacking(Class<?> cls) {
    StringBuilder s = new StringBuilder();
    if (cls == SluiceFileSystem210.class) {
      s.append("IOStatistics, openFile options, path handles, path capabilities");
    }
    if (FILE_SYSTEM_CLASS.getName().equals(SluiceConstants.FS_SLUICE_IMPL_336)) {
      s.append(s.length() == 0 ? "" : ", ").append("SafeMode and LeaseRecoverable, which HBase"
          + " and others test for");
    }
    return s.toString();
  }

  private static Class<? extends SluiceFileSystem210> chooseClass() {
    for (String name : new String[] {SluiceConstants.FS_SLUICE_IMPL_336,
        SluiceConstants.FS_SLUICE_IMPL_DEFAULT}) {
      try {
        return Class.forName(name, false, SluiceFileSystem210.class.getClassLoader())
            .asSubclass(SluiceFileSystem210.class);
      } catch (ClassNotFoundException | LinkageError e) {
        // NoClassDefFoundError: SafeMode before Hadoop 3.3.6, IOStatisticsSource before 3.3.1
      }
    }
    return SluiceFileSystem210.class;
  }

  /**
   * Whether the class loads (with its superclasses and interfaces) through the loader of
   * neighbour, without initialising it.
   */
  private static final boolean CREATE_MODES =
      present("org.apache.hadoop.fs.permission.FsCreateModes", FileSystem.class);

  /**
   * The permission asked for before the umask, where FileSystem.create passed it with the masked
   * one (FsCreateModes, Hadoop 3): a directory's default ACL takes the place of the umask, as
   * HDFS's NameNode does with it. Null otherwise.
   */
  static FsPermission unmaskedOf(FsPermission p) {
    return CREATE_MODES && p != null ? CreateModes.unmasked(p) : null;
  }

  /** Loaded only where FsCreateModes exists. */
  private static final class CreateModes {
    static FsPermission unmasked(FsPermission p) {
      return p instanceof FsCreateModes ? ((FsCreateModes) p).getUnmasked() : null;
    }
  }

  private static boolean present(String className, Class<?> neighbour) {
    try {
      Class.forName(className, false, neighbour.getClassLoader());
      return true;
    } catch (ClassNotFoundException | LinkageError e) {
      return false;
    }
  }

  private static Set<String> setOf(String... values) {
    return Collections.unmodifiableSet(new HashSet<>(Arrays.asList(values)));
  }
}
