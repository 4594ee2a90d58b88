// WebApplicationFactory<Program> needs a public Program type (eShop's Program.Testing.cs).
internal partial class Program;
