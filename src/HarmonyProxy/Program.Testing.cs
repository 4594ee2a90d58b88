// WebApplicationFactory<Program> needs a public Program type (eShop's Program.Testing.cs).
public partial class Program;
